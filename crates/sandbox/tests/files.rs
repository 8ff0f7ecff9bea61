//! The files API sees the sandbox's own filesystem, as its user, and cannot escape it.

mod common;

use agbcloud_sandbox::SandboxError;
use agbcloud_sandbox::files::ChangeKind;
use common::{engine, sandbox, sh};

#[tokio::test]
async fn files_and_commands_see_the_same_files() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let files = sb.files().unwrap();
    files
        .write("/home/user/from-api.txt", b"hello from api")
        .unwrap();
    let out = sh(&sb, "cat /home/user/from-api.txt; stat -c '%u %a' /home/user/from-api.txt; printf 'from cmd' > /tmp/from-cmd").await;
    assert_eq!(
        out.stdout_str(),
        format!("hello from api{} 644\n", sb.uid())
    );
    assert_eq!(files.read("/tmp/from-cmd", 0, None).unwrap(), b"from cmd");
    // The host's /tmp is not the sandbox's.
    assert!(
        !std::path::Path::new("/tmp/from-cmd").exists()
            || std::fs::read("/tmp/from-cmd").unwrap() != b"from cmd"
    );
}

#[tokio::test]
async fn byte_ranges_binary_data_and_utf8_boundaries() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let files = sb.files().unwrap();
    let bin: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    files.write("/tmp/bin", &bin).unwrap();
    assert_eq!(
        files.read("/tmp/bin", 1000, Some(10)).unwrap(),
        bin[1000..1010]
    );
    assert_eq!(
        files.read("/tmp/bin", 299_990, Some(100)).unwrap(),
        bin[299_990..]
    );
    assert_eq!(files.stat("/tmp/bin").unwrap().size, 300_000);
    files.write_at("/tmp/bin", 5, b"XY").unwrap();
    assert_eq!(
        files.read("/tmp/bin", 4, Some(4)).unwrap(),
        [4, b'X', b'Y', 7]
    );
    files.append("/tmp/bin", b"END").unwrap();
    assert_eq!(files.read("/tmp/bin", 300_000, None).unwrap(), b"END");
    // Non-ASCII text over 100 KB read back in 51,200-byte chunks survives intact.
    let text = "héllo wörld ✓ 日本語 ".repeat(5000);
    files.write("/home/user/t.txt", text.as_bytes()).unwrap();
    let mut back = Vec::new();
    let mut off = 0;
    loop {
        let chunk = files.read("/home/user/t.txt", off, Some(51_200)).unwrap();
        if chunk.is_empty() {
            break;
        }
        off += chunk.len() as u64;
        back.extend(chunk);
    }
    assert_eq!(String::from_utf8(back).unwrap(), text);
    let md5 = sh(&sb, "sha256sum /home/user/t.txt | cut -d' ' -f1")
        .await
        .stdout_str();
    assert_eq!(md5.trim().len(), 64);
}

#[tokio::test]
async fn directory_operations() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let f = sb.files().unwrap();
    f.mkdir_all("/home/user/a/b/c").unwrap();
    f.mkdir_all("/home/user/a/b/c").unwrap();
    f.write("/home/user/a/b/c/x.py", b"print(1)\n").unwrap();
    f.write("/home/user/a/y.py", b"x = 1\nx = 1\n").unwrap();
    f.write("/home/user/a/z.txt", b"").unwrap();
    let names: Vec<String> = f
        .list("/home/user/a")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["b", "y.py", "z.txt"]);
    assert!(f.stat("/home/user/a/b").unwrap().is_dir);
    assert_eq!(
        f.glob("/home/user/a", "**/*.py").unwrap(),
        ["/home/user/a/b/c/x.py", "/home/user/a/y.py"]
    );
    assert_eq!(
        f.glob("/home/user/a", "*.py").unwrap(),
        ["/home/user/a/y.py"]
    );
    assert_eq!(
        f.edit("/home/user/a/y.py", "x = 1", "x = 2", false)
            .unwrap(),
        1
    );
    assert_eq!(
        f.read("/home/user/a/y.py", 0, None).unwrap(),
        b"x = 2\nx = 1\n"
    );
    assert_eq!(
        f.edit("/home/user/a/y.py", "x = ", "y = ", true).unwrap(),
        2
    );
    assert!(matches!(
        f.edit("/home/user/a/y.py", "nope", "x", true),
        Err(SandboxError::EditNotFound { .. })
    ));
    let before = f.snapshot("/home/user").unwrap();
    // /home/user and /tmp are separate mounts: EXDEV, exactly as `mv` without copying inside.
    f.rename("/home/user/a/z.txt", "/tmp/z.txt").unwrap_err();
    f.rename("/home/user/a/z.txt", "/home/user/z2.txt").unwrap();
    f.remove("/home/user/a", true).unwrap();
    f.write("/home/user/new", b"n").unwrap();
    let after = f.snapshot("/home/user").unwrap();
    let changes = before.diff(&after);
    assert!(
        changes
            .iter()
            .any(|c| c.path == "/home/user/new" && c.kind == ChangeKind::Created)
    );
    assert!(
        changes
            .iter()
            .any(|c| c.path == "/home/user/a/b/c/x.py" && c.kind == ChangeKind::Deleted)
    );
    assert!(!f.exists("/home/user/a").unwrap());
    assert_eq!(sh(&sb, "ls /home/user").await.stdout_str(), "new\nz2.txt\n");
}

#[tokio::test]
async fn escapes_are_refused() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let secret = format!("/root/agb-files-secret-{}", std::process::id());
    std::fs::write(&secret, "host secret").unwrap();
    let f = sb.files().unwrap();
    let dotdot = f.read(&format!("/home/user/../../..{secret}"), 0, None);
    assert!(
        matches!(dotdot, Err(SandboxError::InvalidPath { .. })),
        "{dotdot:?}"
    );
    assert!(matches!(
        f.read("relative", 0, None),
        Err(SandboxError::InvalidPath { .. })
    ));
    // Symlinks made inside resolve inside: absolute and relative ones both stay in the root.
    sh(&sb, &format!("ln -s {secret} /home/user/abs; ln -s ../../../../../..{secret} /home/user/rel; ln -s /proc/1/root/ /home/user/magic")).await;
    for link in [
        "/home/user/abs",
        "/home/user/rel",
        "/home/user/magic/etc/hostname",
    ] {
        let r = f.read(link, 0, None);
        assert!(r.is_err(), "{link} escaped: {r:?}");
    }
    assert!(f.write("/home/user/abs", b"x").is_err());
    std::fs::remove_file(&secret).ok();
    assert!(!std::path::Path::new(&secret).exists());
    // The API acts as the sandbox user: no reading root-only files, no writing /usr.
    assert!(f.read("/etc/shadow", 0, None).is_err());
    assert!(f.write("/usr/agb-x", b"x").is_err());
    assert!(f.remove("/", true).is_err());
}
