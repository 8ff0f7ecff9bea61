use agbcloud_sandbox::{CommandSpec, Engine, Image, Limits};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke() {
    let engine = Engine::new().expect("engine");
    let sb = engine
        .create(&Image::standard(), &Limits::default())
        .await
        .expect("create");
    let out = sb
        .exec(CommandSpec::new(
            "echo hi; id; hostname; ls /; cat /proc/self/status | grep -i seccomp",
        ))
        .await
        .expect("exec");
    eprintln!("{}\n{}", out.stdout_str(), out.stderr_str());
    assert_eq!(out.exit_code(), 0);
    sb.destroy().await.expect("destroy");
}
