//! Marks the PostgreSQL variants of the integration tests as ignored ("skipped") unless
//! `ROSTER_TEST_POSTGRES_URL` names a server to run them against.

fn main() {
    // `sqlx::migrate!` embeds the migrations; a new one alone must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rustc-check-cfg=cfg(roster_pg)");
    println!("cargo:rerun-if-env-changed=ROSTER_TEST_POSTGRES_URL");
    if std::env::var_os("ROSTER_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=roster_pg");
    }
}
