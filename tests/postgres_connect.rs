//! `store::postgres::connect` against a real PostgreSQL 15 (`support/postgres.rs` starts it):
//! TLS modes and what each one refuses, plain TCP only on this machine, the password kept out
//! of errors, and a pool that starts while the database is down and recovers by itself.

#[path = "support/postgres.rs"]
mod postgres;

use std::time::{Duration, Instant};

use hotline_gateway::store::postgres::connect::{connect, Database};
use postgres::{shared, PgServer, TestDatabase};

/// Generous: a failing probe fails at once (refused connection, refused handshake).
const PROBE: Duration = Duration::from_secs(20);

/// A pool for `url`, which must be accepted.
async fn pool(url: &str) -> Database {
    match connect(url, 2).await {
        Ok(database) => database,
        Err(e) => panic!("connect refused a good URI: {e:#}"),
    }
}

/// Runs `SELECT 1` through a pool for `url` and says whether the connection is TLS.
async fn connects_with_tls(url: &str) -> bool {
    let database = pool(url).await;
    if let Err(e) = database.probe(PROBE).await {
        panic!("probe failed: {e:#}");
    }
    let client = database.pool().get().await.unwrap();
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    row.get(0)
}

/// The probe's error for `url`, which `connect` must accept and the server must refuse.
async fn refused(url: &str) -> String {
    let database = pool(url).await;
    match database.probe(PROBE).await {
        Ok(()) => panic!("{} was accepted", database.target()),
        Err(e) => format!("{e:#}"),
    }
}

/// A CA file of a CA that signed nothing the server has.
fn another_ca(dir: &tempfile::TempDir) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "some other CA");
    let path = dir.path().join("other-ca.crt");
    std::fs::write(&path, ca.self_signed(&key).unwrap().pem()).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn verify_full_with_the_servers_ca_connects_over_tls() {
    let db = shared().database();
    assert!(connects_with_tls(&db.url()).await);
    // The certificate names 127.0.0.1 too.
    assert!(connects_with_tls(&db.url_to("127.0.0.1", &db.tls("verify-full"))).await);
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_for_another_name() {
    let db = shared().database();
    // hostaddr: the connection goes to the test server, the name checked is the URI's host.
    let query = format!("{}&hostaddr=127.0.0.1", db.tls("verify-full"));
    let error = refused(&db.url_to("db.hotline.example", &query)).await;
    assert!(error.contains("not valid for name"), "{error}");
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_in_every_tls_mode() {
    let db = shared().database();
    let dir = tempfile::tempdir().unwrap();
    let other = another_ca(&dir);
    for mode in ["verify-full", "verify-ca", "require", "prefer"] {
        let query = format!("sslmode={mode}&sslrootcert={other}");
        let error = refused(&db.url_to("localhost", &query)).await;
        assert!(error.contains("UnknownIssuer"), "{mode}: {error}");
    }
}

#[tokio::test]
async fn require_and_verify_ca_check_the_chain_but_not_the_name() {
    let db = shared().database();
    for mode in ["require", "verify-ca", "prefer"] {
        assert!(
            connects_with_tls(&db.url_to("localhost", &db.tls(mode))).await,
            "{mode}"
        );
        let query = format!("{}&hostaddr=127.0.0.1", db.tls(mode));
        let url = db.url_to("db.hotline.example", &query);
        assert!(connects_with_tls(&url).await, "{mode}, another name");
    }
}

#[tokio::test]
async fn sslmode_disable_connects_in_clear_to_a_loopback_address() {
    let db = shared().database();
    assert!(!connects_with_tls(&db.url_to("127.0.0.1", "sslmode=disable")).await);
}

#[tokio::test]
async fn a_unix_socket_connects_whatever_the_sslmode() {
    let db = shared().database();
    let socket = percent_encoding::utf8_percent_encode(
        &db.socket_dir.display().to_string(),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    for query in [db.tls("verify-full"), "sslmode=disable".to_owned()] {
        assert!(
            !connects_with_tls(&db.url_to(&socket, &query)).await,
            "{query}"
        );
    }
}

#[tokio::test]
async fn sslmode_disable_to_another_machine_is_refused_before_connecting() {
    let password = "n0t-In-any-Message";
    for host in [
        "db.hotline.example",
        "192.0.2.7",
        "localhost,db.hotline.example",
    ] {
        let url = format!(
            "postgres://{}:{password}@{host}:5432/hgw?sslmode=disable",
            "hgw"
        );
        let error = match connect(&url, 4).await {
            Ok(_) => panic!("{host}: plain TCP accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(error.contains("sslmode=disable"), "{error}");
        assert!(!error.contains(password), "{error}");
    }
}

#[tokio::test]
async fn errors_never_carry_the_password() {
    let db = shared().database();
    let wrong = "Wr0ng-pa55word%2Fwith%40signs";
    let decoded = "Wr0ng-pa55word/with@signs";
    let url = format!(
        "postgres://{}:{wrong}@localhost:{}/{}?{}",
        postgres::USER,
        db.port,
        db.name,
        db.tls("verify-full")
    );
    let error = refused(&url).await;
    assert!(error.contains("password authentication failed"), "{error}");
    assert!(
        !error.contains(wrong) && !error.contains(decoded),
        "{error}"
    );

    // Nor does a URI refused as it is read, nor the right password in any of these.
    for url in [
        format!("postgres://hgw:{wrong}@localhost:notaport/x"),
        format!("postgres://hgw:{wrong}@localhost/x?sslmode=sometimes"),
        format!("postgres://hgw:{wrong}@localhost/x?sslrootcert=/nonexistent/ca.pem"),
        format!("postgres://hgw@localhost/x?password={wrong}&bogus=1"),
        format!("postgres://hgw:{decoded}@localhost/x"),
    ] {
        let error = match connect(&url, 4).await {
            Ok(_) => panic!("{url} accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            !error.contains(wrong) && !error.contains(decoded),
            "{error}"
        );
    }
    let error = refused(&db.url_to(
        "localhost",
        &format!("{}&dbname=nonexistent", db.tls("require")),
    ))
    .await;
    assert!(!error.contains(&db.password), "{error}");
}

/// Probes until one succeeds, within a bound.
async fn probe_until_up(database: &Database) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match database.probe(PROBE).await {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("the pool did not recover: {e:#}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test]
async fn the_pool_starts_while_the_database_is_down_and_recovers_by_itself() {
    let server = PgServer::launch();
    let db: TestDatabase = server.database();
    server.stop();

    let database = pool(&db.url()).await;
    let error = database.probe(PROBE).await.unwrap_err();
    assert!(!format!("{error:#}").contains(&db.password));

    server.start();
    probe_until_up(&database).await;

    // Its connections closed under it by a restart, the same pool carries on.
    server.stop();
    assert!(database.probe(PROBE).await.is_err());
    server.start();
    probe_until_up(&database).await;
}
