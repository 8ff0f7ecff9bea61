//! Any string either becomes a valid `SandboxPath` (absolute, normalised, stable under
//! re-parsing) or is rejected with the reason that applies.

use agbcloud_wire::{PathError, SandboxPath};
use proptest::prelude::*;

/// Strings built from path-ish pieces, so `.`, `..` and `//` show up often.
fn path_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "/",
            "//",
            ".",
            "..",
            "[a-z]{1,3}",
            "\\.\\.\\.",
            " ",
            "\0",
            "\n",
            "é"
        ],
        0..10,
    )
    .prop_map(|pieces| pieces.concat())
}

fn check(raw: &str) -> Result<(), TestCaseError> {
    match SandboxPath::parse(raw) {
        Ok(path) => {
            let s = path.as_str();
            prop_assert!(s.starts_with('/'), "absolute: {s:?}");
            prop_assert!(!s.contains("//"), "no empty components: {s:?}");
            prop_assert!(
                path.components().all(|c| c != "." && c != ".."),
                "no dot components: {s:?}"
            );
            prop_assert!(s == "/" || !s.ends_with('/'), "no trailing slash: {s:?}");
            prop_assert!(
                !s.chars().any(char::is_control),
                "no control characters: {s:?}"
            );
            prop_assert_eq!(SandboxPath::parse(s), Ok(path.clone()), "idempotent");
            let json = serde_json::to_string(&path).unwrap();
            prop_assert_eq!(
                serde_json::from_str::<SandboxPath>(&json).unwrap(),
                path.clone(),
                "serde as a string"
            );
            prop_assert_eq!(path.to_string(), s);
            // Components that are not dots survive, in order.
            let kept: Vec<&str> = raw
                .split('/')
                .filter(|c| !c.is_empty() && *c != "." && *c != "..")
                .collect();
            if !raw.split('/').any(|c| c == "..") {
                prop_assert_eq!(path.components().collect::<Vec<_>>(), kept);
            }
        }
        Err(PathError::Empty) => prop_assert!(raw.is_empty()),
        Err(PathError::ContainsNul) => prop_assert!(raw.contains('\0')),
        Err(PathError::ContainsControl(c)) => {
            prop_assert!(c.is_control() && raw.contains(c) && !raw.contains('\0'));
        }
        Err(PathError::Relative(r)) => {
            prop_assert_eq!(r.as_str(), raw);
            prop_assert!(!raw.starts_with('/') && !raw.is_empty());
        }
        Err(PathError::EscapesRoot(r)) => {
            prop_assert_eq!(r.as_str(), raw);
            prop_assert!(raw.starts_with('/') && raw.contains(".."));
        }
        Err(other) => return Err(TestCaseError::fail(format!("unexpected error {other:?}"))),
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_string_is_valid_or_rejected_with_a_reason(raw in any::<String>()) {
        check(&raw)?;
    }

    #[test]
    fn path_like_strings(raw in path_like()) {
        check(&raw)?;
    }

    #[test]
    fn parent_and_join_stay_valid(raw in path_like(), rel in "[a-z./]{0,8}") {
        if let Ok(path) = SandboxPath::parse(&raw) {
            if let Some(parent) = path.parent() {
                prop_assert!(path.starts_with(&parent));
                prop_assert_eq!(parent.join(path.file_name().unwrap()).unwrap(), path.clone());
            }
            if let Ok(joined) = path.join(&rel) {
                prop_assert_eq!(SandboxPath::parse(joined.as_str()), Ok(joined.clone()));
            }
        }
    }
}

#[test]
fn deserialising_an_invalid_path_is_an_error() {
    let err = serde_json::from_str::<SandboxPath>(r#""../etc/passwd""#).unwrap_err();
    assert!(err.to_string().contains("relative"), "{err}");
    let err = serde_json::from_str::<SandboxPath>(r#""/a/../../etc""#).unwrap_err();
    assert!(err.to_string().contains("escapes"), "{err}");
}
