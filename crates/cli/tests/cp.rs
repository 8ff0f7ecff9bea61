//! `agb cp` from the real binary against `agb serve --dev` on a port it picks: files and
//! trees up and down, in an existing session and in a session of its own.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `agb serve --dev` on 127.0.0.1, stopped (SIGTERM, then waited for) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_agb"))
            .args(["serve", "--dev", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("agb serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("agb serve listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }

    fn agb(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_agb"))
            .args(args)
            .env("AGB_ENDPOINT", &self.url)
            .env("AGB_API_KEY", "dev")
            .env_remove("AGB_TIMEOUT_MS")
            .output()
            .unwrap();
        assert!(out.status.success(), "agb {args:?}: {out:?}");
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn cp_copies_files_and_trees_in_and_out_of_a_session() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = |rel: &str| dir.path().join(rel).to_string_lossy().into_owned();
    let data = bytes(200_000);
    std::fs::write(dir.path().join("data.bin"), &data).unwrap();

    let id = stdout(&server.agb(&["sessions", "create"]))
        .trim()
        .to_owned();
    assert!(!id.is_empty());

    // A file up with --session, and back down with ID:/path.
    let out = server.agb(&[
        "cp",
        "--session",
        &id,
        &path("data.bin"),
        ":/tmp/in/data.bin",
    ]);
    assert!(stdout(&out).contains(":/tmp/in/data.bin"), "{out:?}");
    assert!(stdout(&out).contains("sha256"), "{out:?}");
    server.agb(&["cp", &format!("{id}:/tmp/in/data.bin"), &path("back.bin")]);
    assert!(std::fs::read(dir.path().join("back.bin")).unwrap() == data);

    // Into an existing local directory, the file keeps its name.
    std::fs::create_dir(dir.path().join("into")).unwrap();
    server.agb(&["cp", &format!("{id}:/tmp/in/data.bin"), &path("into")]);
    assert!(std::fs::read(dir.path().join("into/data.bin")).unwrap() == data);

    // A tree with -r, up and down.
    std::fs::create_dir_all(dir.path().join("tree/sub")).unwrap();
    std::fs::write(dir.path().join("tree/a.txt"), "alpha\n").unwrap();
    std::fs::write(dir.path().join("tree/sub/b.bin"), bytes(70_000)).unwrap();
    let out = server.agb(&[
        "cp",
        "-r",
        "--session",
        &id,
        &path("tree"),
        ":/home/user/tree",
    ]);
    assert!(stdout(&out).contains("2 files"), "{out:?}");
    server.agb(&[
        "cp",
        "-r",
        &format!("{id}:/home/user/tree"),
        &path("tree-back"),
    ]);
    assert_eq!(
        std::fs::read(dir.path().join("tree-back/sub/b.bin")).unwrap(),
        bytes(70_000)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tree-back/a.txt")).unwrap(),
        "alpha\n"
    );

    // Without a session: one is created for the copy and deleted after it.
    let out = server.agb(&["cp", &path("data.bin"), ":/tmp/once.bin"]);
    assert!(stdout(&out).contains("200000 bytes"), "{out:?}");
    server.agb(&["sessions", "rm", &id]);
    let listed = stdout(&server.agb(&["sessions", "ls"]));
    assert!(!listed.contains(&id), "{listed}");
}

#[test]
fn cp_refuses_two_local_sides_and_a_directory_without_r() {
    let dir = tempfile::tempdir().unwrap();
    let agb = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_agb"))
            .args(args)
            .env_remove("AGB_ENDPOINT")
            .env_remove("AGB_API_KEY")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = agb(&["cp", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("remote"),
        "{out:?}"
    );
    let here = dir.path().to_string_lossy().into_owned();
    assert!(Path::new(&here).is_dir());
    let out = agb(&["cp", &here, ":/tmp/x"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("use -r"),
        "{out:?}"
    );
}
