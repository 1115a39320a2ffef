//! Marks the PostgreSQL variants of the integration tests as ignored ("skipped") unless
//! `ROSTER_TEST_POSTGRES_URL` names a server to run them against, and the browser tests
//! unless `ROSTER_TEST_CHROMEDRIVER` names a chromedriver, and the tests driven by Python
//! client libraries unless `ROSTER_TEST_PYTHON` names a Python that has them.

fn main() {
    // The browser tests likewise need `ROSTER_TEST_CHROMEDRIVER` (a chromedriver).
    println!("cargo:rustc-check-cfg=cfg(roster_browser)");
    println!("cargo:rerun-if-env-changed=ROSTER_TEST_CHROMEDRIVER");
    if std::env::var_os("ROSTER_TEST_CHROMEDRIVER").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=roster_browser");
    }
    println!("cargo:rustc-check-cfg=cfg(roster_python)");
    println!("cargo:rerun-if-env-changed=ROSTER_TEST_PYTHON");
    if std::env::var_os("ROSTER_TEST_PYTHON").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=roster_python");
    }
    println!("cargo:rustc-check-cfg=cfg(roster_pg)");
    println!("cargo:rerun-if-env-changed=ROSTER_TEST_POSTGRES_URL");
    if std::env::var_os("ROSTER_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=roster_pg");
    }
}
