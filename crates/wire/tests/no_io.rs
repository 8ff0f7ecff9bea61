//! The wire crate stays sans-IO: its normal dependencies are a fixed, IO-free set.

const ALLOWED: &[&str] = &[
    "serde",
    "serde_json",
    "thiserror",
    "base64",
    "form_urlencoded",
    "http",
];

#[test]
fn normal_dependencies_are_io_free() {
    let manifest = include_str!("../Cargo.toml");
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split(['=', '.']).next().unwrap_or_default().trim();
        found.push(name.to_owned());
    }
    assert!(
        found.contains(&"serde".to_owned()),
        "the parser found the dependency table: {found:?}"
    );
    for name in &found {
        assert!(
            ALLOWED.contains(&name.as_str()),
            "agbcloud-wire must not depend on `{name}`: only {ALLOWED:?} (no tokio, hyper, rustls or sockets)"
        );
    }
}
