//! The documentation lists every error the server can return.

use roster_domain::ErrorKind;

#[test]
fn every_error_code_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
        .expect("docs/api.md exists");
    for kind in ErrorKind::ALL {
        let row = format!("| {} | `{}` |", kind.status(), kind.code());
        assert!(
            doc.contains(&row),
            "docs/api.md lacks the row starting {row}"
        );
    }
}
