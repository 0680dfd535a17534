#!/usr/bin/env bash
# Runs each fuzz target for a while and says, one line per target, whether it crashed.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds, every target)
#
# Each target starts from its seed corpus (fuzz/corpus/<target>/) and the inputs kept from
# earlier crashes (fuzz/regressions/<target>/), both read-only: what libFuzzer finds goes to
# fuzz/scratch/<target>/, which is git-ignored and kept between runs (delete it to start
# afresh). A crashing input lands in fuzz/artifacts/<target>/; the script names it and exits
# non-zero. Logs are in fuzz/logs/<target>.log.
#
# Environment: FUZZ_SANITIZER (default `address`, or `none`), FUZZ_TARGET_DIR (default
# fuzz/target), FUZZ_ARGS (more libFuzzer flags, e.g. "-max_len=16384"), CARGO_BUILD_JOBS.
set -euo pipefail

seconds=${1:-60}
shift || true
all_targets=(report url receipt geoip_csv config)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=("${all_targets[@]}")
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]; targets: ${all_targets[*]}" >&2
    exit 2
fi

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$fuzz_dir"

# cargo-fuzz passes unstable flags to rustc (-Zsanitizer=..., the sanitizer-coverage
# passes); only stable rustc is installed here, and RUSTC_BOOTSTRAP=1 lets it take them.
export RUSTC_BOOTSTRAP=1
# AddressSanitizer works this way: the stable toolchain ships its runtime
# (lib/rustlib/x86_64-unknown-linux-gnu/lib/librustc-stable_rt.asan.a), and a probe that
# reads past a Vec's end through a raw pointer is reported as a heap-buffer-overflow. The
# gateway forbids unsafe code, but its dependencies (and ring's C) do not, so ASan stays on,
# at about half the executions per second. FUZZ_SANITIZER=none trades it for speed, or for a
# toolchain without the runtime.
sanitizer=${FUZZ_SANITIZER:-address}
target_dir=${FUZZ_TARGET_DIR:-$fuzz_dir/target}
build_flags=(--sanitizer "$sanitizer" --target-dir "$target_dir")

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    cargo install cargo-fuzz --locked
fi

for target in "${targets[@]}"; do
    if [ ! -d "corpus/$target" ]; then
        echo "no such target: $target (targets: ${all_targets[*]})" >&2
        exit 2
    fi
done

echo "building ${targets[*]} (sanitizer: $sanitizer)..." >&2
if [ ${#targets[@]} -eq ${#all_targets[@]} ]; then
    cargo fuzz build "${build_flags[@]}"
else
    for target in "${targets[@]}"; do
        cargo fuzz build "${build_flags[@]}" "$target"
    done
fi

mkdir -p logs
crashed=0
verdicts=()
for target in "${targets[@]}"; do
    mkdir -p "scratch/$target" "artifacts/$target" "regressions/$target"
    started=$(mktemp)
    log="logs/$target.log"
    echo "fuzzing $target for ${seconds}s (log: fuzz/$log)..." >&2
    status=0
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    cargo fuzz run "${build_flags[@]}" "$target" \
        "scratch/$target" "corpus/$target" "regressions/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$fuzz_dir/artifacts/$target/" ${FUZZ_ARGS:-} \
        >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    runs=${runs:-"?"}
    artifact=$(find "artifacts/$target" -type f -newer "$started" | head -n 1)
    rm -f "$started"
    if [ "$status" -eq 0 ] && [ -z "$artifact" ]; then
        verdicts+=("$target: ok, $runs runs in ${seconds}s, no crash")
    else
        crashed=1
        if [ -n "$artifact" ]; then
            verdicts+=("$target: CRASHED after $runs runs; input: fuzz/$artifact; replay: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target $artifact); once fixed, keep it in fuzz/regressions/$target/")
        else
            verdicts+=("$target: FAILED (exit $status) without a crashing input; see fuzz/$log")
        fi
    fi
done

printf '%s\n' "${verdicts[@]}"
exit "$crashed"
