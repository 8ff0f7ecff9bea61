//! Per-session cgroups on cgroup v1, v2 or a hybrid of both.
//!
//! The layout is detected from `/proc/self/mountinfo` and `/proc/self/cgroup`. Sessions live
//! under `<the server's own cgroup>/<parent>/<engine id>/<session id>` in every hierarchy
//! used: the v2 directory gives `cgroup.kill` and `populated`, and carries the limits when v2
//! has the controllers; otherwise the limits go to the v1 `memory`, `pids` and `cpu`
//! hierarchies.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::limits::Limits;

/// The leaf a cgroup v2 server moves itself into so its cgroup can delegate controllers.
const SERVER_LEAF: &str = "agb-server-leaf";

/// A resource controller the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// Memory limit and OOM accounting.
    Memory,
    /// Process count limit.
    Pids,
    /// CPU bandwidth.
    Cpu,
}

impl Controller {
    /// All controllers, in a fixed order.
    pub const ALL: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::Cpu];

    /// The kernel's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }
}

/// Where each controller lives on this host.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The process's own cgroup in the cgroup2 hierarchy, if cgroup2 is mounted.
    pub v2_base: Option<PathBuf>,
    /// Controllers enabled in cgroup2 at our base.
    pub v2_controllers: Vec<Controller>,
    /// The process's own cgroup in each v1 hierarchy carrying one of our controllers.
    pub v1_bases: Vec<(Controller, PathBuf)>,
    /// Whether cgroup2 offers `cgroup.kill`.
    pub v2_kill: bool,
}

impl Layout {
    /// Detects the layout of the running process.
    pub fn detect() -> io::Result<Layout> {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
        let own = fs::read_to_string("/proc/self/cgroup")?;
        Ok(Self::parse(&mountinfo, &own))
    }

    fn parse(mountinfo: &str, own: &str) -> Layout {
        let mut layout = Layout::default();
        // Own paths: "0::/path" for v2, "N:ctrl,ctrl:/path" for v1.
        let own_path = |ctrl: Option<&str>| -> Option<String> {
            own.lines().find_map(|l| {
                let mut it = l.splitn(3, ':');
                let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
                match ctrl {
                    None if ctrls.is_empty() => Some(path.to_owned()),
                    Some(c) if ctrls.split(',').any(|x| x == c) => Some(path.to_owned()),
                    _ => None,
                }
            })
        };
        for line in mountinfo.lines() {
            let Some((pre, post)) = line.split_once(" - ") else {
                continue;
            };
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            if pre.len() < 5 || post.len() < 3 {
                continue;
            }
            let (root, mnt) = (pre[3], pre[4]);
            let join = |own: &str| -> PathBuf {
                let rel = own
                    .strip_prefix(root)
                    .unwrap_or(own)
                    .trim_start_matches('/');
                Path::new(mnt).join(rel)
            };
            match post[0] {
                "cgroup2" => {
                    if layout.v2_base.is_none()
                        && let Some(p) = own_path(None)
                    {
                        layout.v2_base = Some(join(&p));
                    }
                }
                "cgroup" => {
                    for c in Controller::ALL {
                        if post[2].split(',').any(|o| o == c.name())
                            && !layout.v1_bases.iter().any(|(x, _)| *x == c)
                            && let Some(p) = own_path(Some(c.name()))
                        {
                            layout.v1_bases.push((c, join(&p)));
                        }
                    }
                }
                _ => {}
            }
        }
        // A server that moved itself into its leaf still owns the cgroup above it.
        if let Some(base) = &layout.v2_base
            && base.file_name().is_some_and(|n| n == SERVER_LEAF)
            && let Some(parent) = base.parent()
        {
            layout.v2_base = Some(parent.to_path_buf());
        }
        if let Some(base) = &layout.v2_base {
            let ctrls = fs::read_to_string(base.join("cgroup.controllers")).unwrap_or_default();
            layout.v2_controllers = Controller::ALL
                .into_iter()
                .filter(|c| ctrls.split_whitespace().any(|x| x == c.name()))
                .collect();
            layout.v2_kill =
                base.join("cgroup.kill").exists() || base.join("cgroup.procs").exists();
        }
        // A controller that cgroup2 has is not also used from v1.
        let v2 = layout.v2_controllers.clone();
        layout.v1_bases.retain(|(c, _)| !v2.contains(c));
        layout
    }

    /// Where `controller` is available: `Some(true)` for v2, `Some(false)` for v1.
    pub fn controller(&self, c: Controller) -> Option<bool> {
        if self.v2_controllers.contains(&c) {
            Some(true)
        } else if self.v1_bases.iter().any(|(x, _)| *x == c) {
            Some(false)
        } else {
            None
        }
    }

    /// The base directories of every hierarchy we use (v2 first).
    fn bases(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.v2_base.iter().cloned().collect();
        v.extend(self.v1_bases.iter().map(|(_, p)| p.clone()));
        v
    }

    /// The engine's directory in every hierarchy: `<base>/<parent>/<engine>`. Creates them,
    /// and on cgroup v2 enables our controllers for the children.
    pub(crate) fn engine_dirs(&self, parent: &str, engine: &str) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for base in self.bases() {
            let p = base.join(parent);
            let e = p.join(engine);
            fs::create_dir_all(&e)?;
            if Some(&base) == self.v2_base.as_ref() && !self.v2_controllers.is_empty() {
                let ctl: String = self
                    .v2_controllers
                    .iter()
                    .map(|c| format!("+{} ", c.name()))
                    .collect();
                for dir in [&base, &p, &e] {
                    let mut r = fs::write(dir.join("cgroup.subtree_control"), ctl.trim());
                    if dir == &base
                        && r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EBUSY)
                    {
                        // "No internal processes": a cgroup v2 directory holding processes
                        // cannot hand controllers to children. Move the server into a leaf
                        // of its own cgroup (as systemd-delegated services do) and retry.
                        let leaf = base.join(SERVER_LEAF);
                        fs::create_dir_all(&leaf)?;
                        fs::write(
                            leaf.join("cgroup.procs"),
                            crate::sys::proc::getpid().to_string(),
                        )?;
                        r = fs::write(dir.join("cgroup.subtree_control"), ctl.trim());
                    }
                    if let Err(err) = r {
                        tracing::warn!(dir = %dir.display(), %err, "cannot enable cgroup v2 controllers");
                    }
                }
            }
            out.push(e);
        }
        Ok(out)
    }

    /// The `<base>/<parent>` directories, whose children are engines.
    pub(crate) fn parent_dirs(&self, parent: &str) -> Vec<PathBuf> {
        self.bases().into_iter().map(|b| b.join(parent)).collect()
    }
}

/// One session's cgroup directories.
#[derive(Debug)]
pub(crate) struct SessionCgroup {
    dirs: Vec<PathBuf>,
    v2: Option<PathBuf>,
    memory: Option<PathBuf>,
    pids: Option<PathBuf>,
    v2_memory: bool,
    v2_pids: bool,
}

impl SessionCgroup {
    /// Creates the session's directories under the engine's and writes its limits.
    pub(crate) fn create(
        layout: &Layout,
        engine_dirs: &[PathBuf],
        sid: &str,
        limits: &Limits,
    ) -> io::Result<Self> {
        let mut cg = SessionCgroup {
            dirs: Vec::new(),
            v2: None,
            memory: None,
            pids: None,
            v2_memory: layout.v2_controllers.contains(&Controller::Memory),
            v2_pids: layout.v2_controllers.contains(&Controller::Pids),
        };
        let mut i = 0;
        if layout.v2_base.is_some() {
            let d = engine_dirs[0].join(sid);
            fs::create_dir(&d)?;
            cg.dirs.push(d.clone());
            cg.v2 = Some(d);
            i = 1;
        }
        for (c, _) in &layout.v1_bases {
            let d = engine_dirs[i].join(sid);
            i += 1;
            if let Err(e) = fs::create_dir(&d) {
                cg.remove().ok();
                return Err(e);
            }
            cg.dirs.push(d.clone());
            match c {
                Controller::Memory => cg.memory = Some(d),
                Controller::Pids => cg.pids = Some(d),
                Controller::Cpu => {
                    if let Some(share) = limits.cpu {
                        let quota = ((share * 100_000.0) as u64).max(1000);
                        write(&d, "cpu.cfs_period_us", "100000")?;
                        write(&d, "cpu.cfs_quota_us", &quota.to_string())?;
                    }
                }
            }
        }
        if let Some(v2) = &cg.v2 {
            if cg.v2_memory {
                cg.memory = Some(v2.clone());
            }
            if cg.v2_pids {
                cg.pids = Some(v2.clone());
            }
            if layout.v2_controllers.contains(&Controller::Cpu)
                && let Some(share) = limits.cpu
            {
                let quota = ((share * 100_000.0) as u64).max(1000);
                write(v2, "cpu.max", &format!("{quota} 100000"))?;
            }
        }
        if let (Some(m), Some(bytes)) = (&cg.memory, limits.memory) {
            if cg.v2_memory {
                write(m, "memory.max", &bytes.to_string())?;
                write(m, "memory.swap.max", "0").ok();
            } else {
                write(m, "memory.limit_in_bytes", &bytes.to_string())?;
                write(m, "memory.memsw.limit_in_bytes", &bytes.to_string()).ok();
            }
        }
        if let (Some(p), Some(n)) = (&cg.pids, limits.pids) {
            write(p, "pids.max", &n.to_string())?;
        }
        Ok(cg)
    }

    /// Moves `pid` into every hierarchy of the session.
    pub(crate) fn join(&self, pid: i32) -> io::Result<()> {
        for d in &self.dirs {
            write(d, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Kills every process of the session (cgroup.kill on v2, a signal to each member on v1).
    pub(crate) fn kill(&self) {
        kill_dir(self.v2.as_deref(), &self.dirs);
    }

    /// Removes the directories; fails with `EBUSY` while processes remain.
    pub(crate) fn remove(&self) -> io::Result<()> {
        let mut first = Ok(());
        for d in &self.dirs {
            match fs::remove_dir(d) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    if first.is_ok() {
                        first = Err(e);
                    }
                }
            }
        }
        first
    }

    /// How many times the OOM killer fired in the session.
    pub(crate) fn oom_kills(&self) -> u64 {
        let Some(m) = &self.memory else { return 0 };
        let (file, key) = if self.v2_memory {
            ("memory.events", "oom_kill")
        } else {
            ("memory.oom_control", "oom_kill")
        };
        counter(&m.join(file), key)
    }

    /// How many times a fork failed on the pids limit.
    pub(crate) fn pids_max_hits(&self) -> u64 {
        self.pids
            .as_ref()
            .map_or(0, |p| counter(&p.join("pids.events"), "max"))
    }
}

fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    fs::write(dir.join(file), value)
        .map_err(|e| io::Error::new(e.kind(), format!("{}/{file}: {e}", dir.display())))
}

fn counter(path: &Path, key: &str) -> u64 {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or(0)
}

fn kill_dir(v2: Option<&Path>, dirs: &[PathBuf]) {
    if let Some(v2) = v2
        && fs::write(v2.join("cgroup.kill"), "1").is_ok()
    {
        return;
    }
    for d in dirs {
        for _ in 0..100 {
            let procs = fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default();
            let pids: Vec<i32> = procs
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                crate::sys::proc::kill(pid, libc::SIGKILL).ok();
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Kills and removes every session cgroup under `engine_dir`, then the directory itself.
pub(crate) fn purge_engine_dir(engine_dir: &Path) {
    let Ok(entries) = fs::read_dir(engine_dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            let d = e.path();
            kill_dir(Some(&d), std::slice::from_ref(&d));
            for _ in 0..200 {
                if fs::remove_dir(&d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
    fs::remove_dir(engine_dir).ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hybrid_layout() {
        let mi = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
                  35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                  39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let own = "8:pids:/\n4:memory:/process_api/x\n1:cpu:/\n0::/\n";
        let l = Layout::parse(mi, own);
        assert_eq!(
            l.v2_base.as_deref(),
            Some(Path::new("/sys/fs/cgroup/unified"))
        );
        assert!(l.v1_bases.contains(&(
            Controller::Memory,
            PathBuf::from("/sys/fs/cgroup/memory/process_api/x")
        )));
        assert!(
            l.v1_bases
                .contains(&(Controller::Pids, PathBuf::from("/sys/fs/cgroup/pids")))
        );
    }

    fn read(dir: &Path, file: &str) -> String {
        fs::read_to_string(dir.join(file)).unwrap_or_default()
    }

    #[test]
    fn v2_session_gets_its_limits_in_one_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout {
            v2_base: Some(tmp.path().to_path_buf()),
            v2_controllers: Controller::ALL.to_vec(),
            v1_bases: Vec::new(),
            v2_kill: true,
        };
        let engine = layout.engine_dirs("agbcloud", "e1").unwrap();
        assert_eq!(
            read(tmp.path(), "cgroup.subtree_control"),
            "+memory +pids +cpu"
        );
        let limits = Limits {
            memory: Some(1 << 28),
            pids: Some(64),
            cpu: Some(0.5),
            ..Limits::default()
        };
        let cg = SessionCgroup::create(&layout, &engine, "s1", &limits).unwrap();
        let d = tmp.path().join("agbcloud/e1/s1");
        assert_eq!(read(&d, "memory.max"), (1u64 << 28).to_string());
        assert_eq!(read(&d, "memory.swap.max"), "0");
        assert_eq!(read(&d, "pids.max"), "64");
        assert_eq!(read(&d, "cpu.max"), "50000 100000");
        fs::write(d.join("memory.events"), "low 0\noom 2\noom_kill 1\n").unwrap();
        fs::write(d.join("pids.events"), "max 3\n").unwrap();
        assert_eq!(cg.oom_kills(), 1);
        assert_eq!(cg.pids_max_hits(), 3);
    }

    #[test]
    fn v1_session_spreads_limits_over_hierarchies() {
        let tmp = tempfile::tempdir().unwrap();
        let base = |c: &str| tmp.path().join(c);
        let layout = Layout {
            v2_base: Some(base("unified")),
            v2_controllers: Vec::new(),
            v1_bases: vec![
                (Controller::Memory, base("memory")),
                (Controller::Pids, base("pids")),
                (Controller::Cpu, base("cpu")),
            ],
            v2_kill: true,
        };
        let engine = layout.engine_dirs("agbcloud", "e1").unwrap();
        assert_eq!(engine.len(), 4);
        let limits = Limits {
            memory: Some(1 << 28),
            pids: Some(64),
            cpu: Some(1.5),
            ..Limits::default()
        };
        let cg = SessionCgroup::create(&layout, &engine, "s1", &limits).unwrap();
        let s = |c: &str| base(c).join("agbcloud/e1/s1");
        assert!(s("unified").is_dir());
        assert_eq!(
            read(&s("memory"), "memory.limit_in_bytes"),
            (1u64 << 28).to_string()
        );
        assert_eq!(
            read(&s("memory"), "memory.memsw.limit_in_bytes"),
            (1u64 << 28).to_string()
        );
        assert_eq!(read(&s("pids"), "pids.max"), "64");
        assert_eq!(read(&s("cpu"), "cpu.cfs_quota_us"), "150000");
        fs::write(
            s("memory").join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        assert_eq!(cg.oom_kills(), 2);
    }

    #[test]
    fn parses_pure_v2_with_container_root() {
        let mi = "30 25 0:26 /kube /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let own = "0::/kube/svc\n";
        let l = Layout::parse(mi, own);
        assert_eq!(l.v2_base.as_deref(), Some(Path::new("/sys/fs/cgroup/svc")));
        assert!(l.v1_bases.is_empty());
        let moved = Layout::parse(mi, "0::/kube/svc/agb-server-leaf\n");
        assert_eq!(
            moved.v2_base.as_deref(),
            Some(Path::new("/sys/fs/cgroup/svc"))
        );
    }
}
