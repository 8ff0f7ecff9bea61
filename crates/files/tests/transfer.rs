//! Transfers against the real embedded engine: round trips, batches, trees, checksums, path
//! validation and progress.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use agbcloud::files::{Progress, Symlinks, Transfer, TransferError};
use agbcloud::prelude::*;
use common::{Counting, noise, write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_mib_binary_file_and_a_large_utf8_text_make_the_round_trip_verified() {
    let server = Counting::start();
    let session = server
        .client()
        .create_guarded(CreateParams::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let transfer = Transfer::new(&session);

    let binary = noise(5 * 1024 * 1024 + 17, 7);
    let up = dir.path().join("up.bin");
    write(&up, &binary);
    let sent = transfer.upload(&up, "/tmp/deep/a/b/up.bin").await.unwrap();
    assert_eq!(sent.bytes, binary.len() as u64);
    let sha = sent.sha256.clone().expect("verified by default");
    let back = dir.path().join("back/up.bin");
    let got = transfer
        .download("/tmp/deep/a/b/up.bin", &back)
        .await
        .unwrap();
    assert_eq!(got.sha256.as_deref(), Some(sha.as_str()));
    assert!(
        std::fs::read(&back).unwrap() == binary,
        "downloaded bytes differ"
    );
    assert!(!dir.path().join("back/up.bin.agb-part").exists());
    let names: Vec<String> = session
        .fs()
        .list("/tmp/deep/a/b")
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    assert_eq!(names, ["up.bin"], "no staging file is left behind");

    // Text that turns binary after its first chunk, and back.
    let mut mixed = "text first\n".repeat(10_000).into_bytes();
    mixed.extend(noise(70_000, 5));
    mixed.extend("and text again ✓\n".repeat(5_000).as_bytes());
    let up = dir.path().join("mixed.dat");
    write(&up, &mixed);
    transfer.upload(&up, "/tmp/mixed.dat").await.unwrap();
    let back = dir.path().join("mixed-back.dat");
    transfer.download("/tmp/mixed.dat", &back).await.unwrap();
    assert!(std::fs::read(&back).unwrap() == mixed, "mixed bytes differ");
    let small_ranges = Transfer::new(&session).download_range(5_000);
    small_ranges
        .download("/tmp/mixed.dat", &back)
        .await
        .unwrap();
    assert!(
        std::fs::read(&back).unwrap() == mixed,
        "bytes differ in small ranges"
    );

    // Multi-byte characters straddle every 48 KiB chunk boundary.
    let text = "naïve café ✓ 日本語 🦀\n".repeat(6000);
    let up = dir.path().join("text.txt");
    write(&up, text.as_bytes());
    transfer.upload(&up, "/tmp/text.txt").await.unwrap();
    assert_eq!(session.fs().read_text("/tmp/text.txt").await.unwrap(), text);
    let back = dir.path().join("text-back.txt");
    transfer.download("/tmp/text.txt", &back).await.unwrap();
    assert_eq!(std::fs::read_to_string(&back).unwrap(), text);

    // An empty file too.
    let empty = dir.path().join("empty");
    write(&empty, b"");
    transfer.upload(&empty, "/tmp/empty").await.unwrap();
    let back = dir.path().join("empty-back");
    assert_eq!(
        transfer.download("/tmp/empty", &back).await.unwrap().bytes,
        0
    );
    assert!(std::fs::read(&back).unwrap().is_empty());
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_100_with_one_invalid_path_reports_99_successes_and_the_failure() {
    let server = Counting::start();
    let session = server
        .client()
        .create_guarded(CreateParams::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..100 {
        let local = dir.path().join(format!("f{i}.txt"));
        write(&local, format!("file {i}\n").repeat(i + 1).as_bytes());
        let remote = if i == 42 {
            "relative/f42.txt".to_owned()
        } else {
            format!("/tmp/batch/f{i}.txt")
        };
        files.push((local, remote));
    }
    let events = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let sink = events.clone();
    let transfer = Transfer::new(&session)
        .concurrency(8)
        .on_progress(move |p| sink.lock().unwrap().push(p.clone()));
    let report = transfer.upload_many(files.clone()).await;
    let last = events.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last.files_done, last.files_total),
        (100, 100),
        "failures finish too"
    );
    assert_eq!(report.files.len(), 100);
    assert_eq!(report.succeeded().count(), 99);
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1);
    let (file, error) = failed[0];
    assert_eq!(file.remote, "relative/f42.txt");
    assert_eq!(file.local, dir.path().join("f42.txt"));
    assert!(
        matches!(error, TransferError::InvalidRemotePath { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("relative/f42.txt"), "{error}");
    // Outcomes come back in the order given.
    assert_eq!(report.files[7].remote, "/tmp/batch/f7.txt");

    // And back down, with one missing file.
    let back = dir.path().join("back");
    let mut downloads: Vec<(String, PathBuf)> = (0..100)
        .filter(|i| *i != 42)
        .map(|i| {
            (
                format!("/tmp/batch/f{i}.txt"),
                back.join(format!("f{i}.txt")),
            )
        })
        .collect();
    downloads.push((
        "/tmp/batch/missing.txt".to_owned(),
        back.join("missing.txt"),
    ));
    let report = transfer.download_many(downloads).await;
    assert_eq!(report.succeeded().count(), 99);
    let (file, error) = report.failed().next().unwrap();
    assert_eq!(file.remote, "/tmp/batch/missing.txt");
    assert_eq!(error.remote_path(), Some("/tmp/batch/missing.txt"));
    assert!(matches!(error, TransferError::Session { .. }), "{error}");
    for i in (0..100).filter(|i| *i != 42) {
        let name = format!("f{i}.txt");
        assert_eq!(
            std::fs::read(back.join(&name)).unwrap(),
            std::fs::read(dir.path().join(&name)).unwrap()
        );
    }
    session.close().await.unwrap();
}

/// Every file under `root`, relative, with its bytes.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &path, out);
            } else {
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_tree_makes_the_round_trip_and_symlinks_are_skipped_or_followed() {
    let server = Counting::start();
    let session = server
        .client()
        .create_guarded(CreateParams::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write(&src.join("README.md"), b"# tree\n");
    write(&src.join("data/raw/blob.bin"), &noise(300_000, 3));
    write(&src.join("data/raw/notes.txt"), "π ≈ 3.14159\n".as_bytes());
    write(&src.join("code/main.py"), b"print('hi')\n");
    std::fs::create_dir_all(src.join("empty/inner")).unwrap();
    let outside = dir.path().join("outside.txt");
    write(&outside, b"outside the tree\n");
    std::os::unix::fs::symlink(&outside, src.join("link.txt")).unwrap();

    let transfer = Transfer::new(&session);
    let report = transfer
        .upload_dir(&src, "/home/user/project")
        .await
        .unwrap();
    assert!(
        report.is_success(),
        "{:?}",
        report.failed().collect::<Vec<_>>()
    );
    assert_eq!(report.files.len(), 4, "the symlink is skipped by default");

    let back = dir.path().join("back");
    let report = transfer
        .download_dir("/home/user/project", &back)
        .await
        .unwrap();
    assert!(
        report.is_success(),
        "{:?}",
        report.failed().collect::<Vec<_>>()
    );
    let mut expected = snapshot(&src);
    expected.retain(|(rel, _)| rel != "link.txt");
    assert_eq!(snapshot(&back), expected);

    // A remote link cycle ends the walk with an error instead of looping.
    session
        .command()
        .exec("mkdir -p /tmp/loop && ln -s /tmp/loop /tmp/loop/again")
        .await
        .unwrap();
    let error = transfer
        .download_dir("/tmp/loop", dir.path().join("loop"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cycle"), "{error}");

    let followed = Transfer::new(&session).symlinks(Symlinks::Follow);
    followed
        .upload_dir(&src, "/home/user/followed")
        .await
        .unwrap();
    assert_eq!(
        session
            .fs()
            .read_text("/home/user/followed/link.txt")
            .await
            .unwrap(),
        "outside the tree\n"
    );
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checksum_mismatch_is_a_typed_error_naming_the_file() {
    let server = Counting::start();
    let session = server
        .client()
        .create_guarded(CreateParams::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    write(&a, &noise(70_000, 1));
    write(&b, &noise(70_000, 2));
    let transfer = Transfer::new(&session);
    let sent = transfer.upload(&a, "/tmp/a.bin").await.unwrap();
    assert_eq!(
        transfer.verify_file(&a, "/tmp/a.bin").await.unwrap(),
        sent.sha256.unwrap()
    );
    let error = transfer.verify_file(&b, "/tmp/a.bin").await.unwrap_err();
    match &error {
        TransferError::ChecksumMismatch {
            local,
            remote,
            local_sha256,
            remote_sha256,
        } => {
            assert_eq!(local, &b);
            assert_eq!(remote, "/tmp/a.bin");
            assert_ne!(local_sha256, remote_sha256);
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    assert!(error.to_string().contains("/tmp/a.bin"), "{error}");

    // The remote file changed behind our back: verification says so.
    session
        .command()
        .exec("printf x >> /tmp/a.bin")
        .await
        .unwrap();
    let error = transfer.verify_file(&a, "/tmp/a.bin").await.unwrap_err();
    assert!(
        matches!(error, TransferError::ChecksumMismatch { .. }),
        "{error}"
    );
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_remote_path_is_refused_before_any_request_or_local_io() {
    let server = Counting::start();
    let session = server
        .client()
        .create_guarded(CreateParams::default())
        .await
        .unwrap();
    let transfer = Transfer::new(&session);
    let before = server.requests();
    let missing = Path::new("/definitely/not/here.bin");
    for error in [
        transfer.upload(missing, "tmp/x.bin").await.unwrap_err(),
        transfer.download("tmp/x.bin", missing).await.unwrap_err(),
        transfer.upload_dir(missing, "tmp").await.unwrap_err(),
        transfer.download_dir("tmp", missing).await.unwrap_err(),
        transfer.verify_file(missing, "../x").await.unwrap_err(),
    ] {
        assert!(
            matches!(error, TransferError::InvalidRemotePath { .. }),
            "{error}"
        );
        assert!(error.remote_path().is_some());
    }
    assert_eq!(server.requests(), before, "no request was sent");
    assert!(!missing.exists());
    session.close().await.unwrap();
}

fn assert_monotonic(events: &[Progress], bytes: u64, files: usize) {
    assert!(!events.is_empty());
    for pair in events.windows(2) {
        assert!(pair[0].bytes_done <= pair[1].bytes_done, "{pair:?}");
        assert!(pair[0].files_done <= pair[1].files_done, "{pair:?}");
    }
    for event in events {
        assert_eq!((event.bytes_total, event.files_total), (bytes, files));
    }
    let last = events.last().unwrap();
    assert_eq!((last.bytes_done, last.files_done), (bytes, files));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_events_are_throttled_monotonic_and_end_at_the_total() {
    let server = Counting::start();
    let session = server
        .client()
        .create_guarded(CreateParams::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let sink = events.clone();
    let transfer =
        Transfer::new(&session).on_progress(move |p| sink.lock().unwrap().push(p.clone()));

    let size = 3 * 1024 * 1024 + 5;
    let big = dir.path().join("big.bin");
    write(&big, &noise(size, 9));
    transfer.upload(&big, "/tmp/big.bin").await.unwrap();
    let up = std::mem::take(&mut *events.lock().unwrap());
    assert_monotonic(&up, size as u64, 1);
    assert!(up.len() <= 5, "throttled: {} events", up.len());
    assert!(up.iter().all(|p| p.path == "/tmp/big.bin"));

    transfer
        .download("/tmp/big.bin", dir.path().join("big-back.bin"))
        .await
        .unwrap();
    let down = std::mem::take(&mut *events.lock().unwrap());
    assert_monotonic(&down, size as u64, 1);

    let files: Vec<_> = (0..20)
        .map(|i| {
            let local = dir.path().join(format!("p{i}"));
            write(&local, &noise(10_000 + i, i as u64));
            (local, format!("/tmp/p/{i}"))
        })
        .collect();
    let total: u64 = (0..20).map(|i| 10_000 + i as u64).sum();
    transfer.upload_many(files).await;
    let batch = std::mem::take(&mut *events.lock().unwrap());
    assert_monotonic(&batch, total, 20);
    session.close().await.unwrap();
}

#[test]
fn transfers_can_be_spawned() {
    fn send<T: Send>(_: T) {}
    fn shared<T: Send + Sync + 'static>() {}
    fn cloned<T: Clone>() {}
    shared::<Transfer>();
    cloned::<Transfer>();
    shared::<TransferError>();
    let _ = |transfer: &'static Transfer| {
        send(transfer.upload("a", "/b"));
        send(transfer.download("/b", "a"));
        send(transfer.upload_many([("a", "/b")]));
        send(transfer.download_many([("/b", "a")]));
        send(transfer.upload_dir("a", "/b"));
        send(transfer.download_dir("/b", "a"));
        send(transfer.verify_file("a", "/b"));
    };
}
