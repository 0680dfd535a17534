//! The statistics page's charts, drawn as SVG on the server by plotters (its SVG backend only,
//! with no font files: the browser renders the text). Readable in black and white: every bar
//! carries its number as text, stacked segments carry theirs and are told apart by shade and a
//! legend, never by colour alone. The same numbers are on the page as a table.

use plotters::prelude::*;

const WIDTH: u32 = 760;
const ROW: u32 = 30;
const LABEL_WIDTH: i32 = 170;
const RIGHT_MARGIN: i32 = 90;
const TOP: i32 = 34;

/// Shades of grey for stacked segments, light to dark; text on the darker ones is white.
const SHADES: [RGBColor; 6] = [
    RGBColor(235, 235, 235),
    RGBColor(200, 200, 200),
    RGBColor(160, 160, 160),
    RGBColor(115, 115, 115),
    RGBColor(70, 70, 70),
    RGBColor(30, 30, 30),
];

/// One bar: its label, its length, and the text written at its end.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// A horizontal bar chart titled `title`.
pub fn bars(title: &str, rows: &[Bar]) -> anyhow::Result<String> {
    let height = TOP as u32 + ROW * rows.len().max(1) as u32 + 10;
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        area.fill(&WHITE)?;
        heading(&area, title)?;
        let max = rows.iter().map(|r| r.value).fold(0.0, f64::max);
        let span = f64::from(WIDTH as i32 - LABEL_WIDTH - RIGHT_MARGIN);
        for (i, row) in rows.iter().enumerate() {
            let y = TOP + ROW as i32 * i as i32;
            label(&area, &row.label, y)?;
            let length = if max > 0.0 {
                (row.value / max * span) as i32
            } else {
                0
            };
            let (x0, x1) = (LABEL_WIDTH, LABEL_WIDTH + length.max(1));
            area.draw(&Rectangle::new(
                [(x0, y + 4), (x1, y + ROW as i32 - 4)],
                SHADES[2].filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(x0, y + 4), (x1, y + ROW as i32 - 4)],
                BLACK.stroke_width(1),
            ))?;
            area.draw(&Text::new(
                row.text.clone(),
                (x1 + 6, y + 8),
                ("sans-serif", 17).into_font().color(&BLACK),
            ))?;
        }
        area.present()?;
    }
    Ok(svg)
}

/// A stacked horizontal bar chart: one bar per row, one segment per legend entry.
pub fn stacked(
    title: &str,
    legend: &[String],
    rows: &[(String, Vec<u64>)],
) -> anyhow::Result<String> {
    let legend_rows = legend.len().div_ceil(3) as i32;
    let height = (TOP + ROW as i32 * rows.len().max(1) as i32 + 24 * legend_rows + 20) as u32;
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        area.fill(&WHITE)?;
        heading(&area, title)?;
        let max = rows
            .iter()
            .map(|(_, v)| v.iter().sum::<u64>())
            .max()
            .unwrap_or(0);
        let span = f64::from(WIDTH as i32 - LABEL_WIDTH - RIGHT_MARGIN);
        for (i, (name, values)) in rows.iter().enumerate() {
            let y = TOP + ROW as i32 * i as i32;
            label(&area, name, y)?;
            let mut x = LABEL_WIDTH;
            for (s, &n) in values.iter().enumerate() {
                if n == 0 || max == 0 {
                    continue;
                }
                let width = ((n as f64 / max as f64) * span).round().max(1.0) as i32;
                let shade = SHADES[s % SHADES.len()];
                let corners = [(x, y + 4), (x + width, y + ROW as i32 - 4)];
                area.draw(&Rectangle::new(corners, shade.filled()))?;
                area.draw(&Rectangle::new(corners, BLACK.stroke_width(1)))?;
                if width >= 18 {
                    let ink = if s % SHADES.len() >= 3 { WHITE } else { BLACK };
                    area.draw(&Text::new(
                        n.to_string(),
                        (x + 4, y + 9),
                        ("sans-serif", 15).into_font().color(&ink),
                    ))?;
                }
                x += width;
            }
            let total: u64 = values.iter().sum();
            area.draw(&Text::new(
                total.to_string(),
                (x + 6, y + 8),
                ("sans-serif", 17).into_font().color(&BLACK),
            ))?;
        }
        let top = TOP + ROW as i32 * rows.len().max(1) as i32 + 12;
        for (s, name) in legend.iter().enumerate() {
            let (col, line) = ((s % 3) as i32, (s / 3) as i32);
            let (x, y) = (10 + col * 250, top + line * 24);
            let corners = [(x, y), (x + 18, y + 16)];
            area.draw(&Rectangle::new(corners, SHADES[s % SHADES.len()].filled()))?;
            area.draw(&Rectangle::new(corners, BLACK.stroke_width(1)))?;
            area.draw(&Text::new(
                format!("{} {name}", s + 1),
                (x + 24, y + 2),
                ("sans-serif", 16).into_font().color(&BLACK),
            ))?;
        }
        area.present()?;
    }
    Ok(svg)
}

fn heading<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(
        title.to_owned(),
        (10, 8),
        ("sans-serif", 20)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK),
    ))
    .map_err(|e| anyhow::anyhow!("cannot draw a chart: {e:?}"))
}

fn label<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
    y: i32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(
        text.to_owned(),
        (10, y + 8),
        ("sans-serif", 17).into_font().color(&BLACK),
    ))
    .map_err(|e| anyhow::anyhow!("cannot draw a chart: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_stacks_are_svg_with_their_numbers_as_text() {
        let svg = bars(
            "Items",
            &[Bar {
                label: "routed".into(),
                value: 3.0,
                text: "3".into(),
            }],
        )
        .unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("\n3\n") && svg.contains("\nrouted\n"),
            "{svg}"
        );
        let svg = stacked(
            "Spread",
            &["< 1 h".into(), "1-6 h".into()],
            &[("NL".into(), vec![2, 5])],
        )
        .unwrap();
        assert!(
            svg.contains("\n2\n") && svg.contains("\n5\n") && svg.contains("\n7\n"),
            "{svg}"
        );
        assert!(!svg.contains("<script") && !svg.contains("href"), "{svg}");
    }
}
