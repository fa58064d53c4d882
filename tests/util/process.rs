//! Real server processes for tests (brokers, proxies): found or installed with apt-get, on
//! free ports, stopped when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// A server's binary: on the PATH, in the usual places, or installed with apt-get (once per
/// package) if it can be. `None` (with the reason printed) skips the test.
pub fn find_binary(name: &str, package: &str) -> Option<String> {
    let look = || {
        let path = std::env::var("PATH").unwrap_or_default();
        let found = path
            .split(':')
            .chain(["/usr/sbin", "/usr/bin", "/sbin"])
            .map(|dir| format!("{dir}/{name}"))
            .find(|candidate| std::path::Path::new(candidate).exists());
        found
    };
    if let Some(found) = look() {
        return Some(found);
    }
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = look() {
        return Some(found);
    }
    eprintln!("installing {package} with apt-get");
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    let found = look();
    if found.is_none() {
        eprintln!("SKIPPED: {name} is not installed and could not be installed (installed: {installed})");
    }
    found
}

/// A server process, stopped when dropped: SIGTERM first, so that one which forks
/// (danted) takes its children with it, then SIGKILL.
pub struct Process {
    child: Child,
}

impl Process {
    pub fn new(child: Child) -> Process {
        Process { child }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path of an example's binary, which cargo builds beside the test binaries.
pub fn example(name: &str) -> std::path::PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(name)
}
