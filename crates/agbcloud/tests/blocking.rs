//! The synchronous client, from plain threads (feature `blocking`).
#![cfg(feature = "blocking")]

use agbcloud::blocking::Agb;
use agbcloud::{CreateParams, Language};

#[test]
fn a_script_can_run_code_and_commands_without_async() {
    let agb =
        Agb::from_builder(agbcloud::builder().use_environment(false).embedded()).expect("client");
    let session = agb.create(CreateParams::default()).expect("created");
    assert_eq!(
        session
            .run_code("2 ** 10", Language::Python)
            .expect("ran")
            .text(),
        "1024"
    );
    assert_eq!(session.exec("echo hi").expect("ran").stdout, "hi\n");
    session.write_text("/tmp/b.txt", "beta").expect("written");
    assert_eq!(session.read_text("/tmp/b.txt").expect("read"), "beta");
    let other_thread = std::thread::spawn({
        let session = session.clone();
        move || session.exec("echo there").map(|out| out.stdout)
    });
    assert_eq!(
        other_thread.join().expect("thread").expect("ran"),
        "there\n"
    );
    session.delete().expect("deleted");
}
