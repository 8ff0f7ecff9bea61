//! Many sandboxes at once, without cross-talk.

mod common;

use agbcloud_sandbox::CommandSpec;
use common::{engine, sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sandboxes_run_concurrently_without_cross_talk() {
    let engine = engine();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let sb = sandbox(&engine).await;
            sb.files().unwrap().write("/tmp/id", format!("{i}").as_bytes()).unwrap();
            let cmd = format!("echo {i} > /home/user/mine; sleep 0.2; cat /tmp/id; echo; cat /home/user/mine; ls /tmp; id -u");
            let out = sb.exec(CommandSpec::new(cmd)).await.unwrap();
            (i, sb.uid(), out.stdout_str(), sb)
        }));
    }
    let mut uids = std::collections::BTreeSet::new();
    let mut keep = Vec::new();
    for t in tasks {
        let (i, uid, out, sb) = t.await.unwrap();
        assert_eq!(out, format!("{i}\n{i}\nid\n{uid}\n"));
        uids.insert(uid);
        keep.push(sb);
    }
    assert_eq!(uids.len(), 50, "every live sandbox has its own uid");
    for sb in keep {
        sb.destroy().await.unwrap();
    }
}
