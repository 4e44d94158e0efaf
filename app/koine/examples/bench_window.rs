//! The window's launch benchmark: runs the real `koine` binary (no
//! subcommand: the window) on a seeded profile under its own Xvfb, and
//! watches the X server's pixels from outside:
//!
//! - mapped: the window is viewable;
//! - first frame: a strip across the whole window shows the window's drawing
//!   (three or more distinct colours; an unpainted window is one colour);
//! - settled: the last change of the whole window within 4 s after the
//!   first frame (the inbox with its rows drawn);
//! - VmRSS of the process 5 s after the first frame.
//!
//! With `KOINE_BENCH_CLICK=X,Y`, each run then clicks there (XTEST) and
//! reports the first and the last change of the screen within 3 s after
//! the click (polled every ~2 ms plus one capture) and VmRSS 3 s after it:
//! point it at a chat's row to time opening it in the real window.
//!
//! With `KOINE_BENCH_SHOTS=DIR`, the screen as the first frame was seen is
//! saved as DIR/first-frame.ppm (the extra capture delays the later figures).
//!
//! Times count from just before the process is spawned (fork and exec
//! included). One warm-up run is not counted.
//!
//! ```text
//! cargo build --release -p koine --bin koine --example bench_window
//! scripts/with-keyring $CARGO_TARGET_DIR/release/examples/bench_window \
//!     PROFILE_DIR [RUNS] [KOINE_BINARY]
//! ```
//!
//! Seed PROFILE_DIR with `bench_seed` (koine-core's examples) inside the
//! same `scripts/with-keyring` session (`with-keyring sh -c 'bench_seed …
//! && bench_window …'`): the history's key is in that session's keyring.
//! KOINE_BINARY defaults to `koine` beside this example's directory.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, MapState, Window};
use x11rb::rust_connection::RustConnection;

const WIDTH: u16 = 1180;
const HEIGHT: u16 = 760;
const TIMEOUT: Duration = Duration::from_secs(30);

type Error = Box<dyn std::error::Error>;

struct Run {
    mapped: Duration,
    first_frame: Duration,
    settled: Duration,
    rss_kib: u64,
    /// After the click, if asked for: first change, last change, VmRSS.
    opened: Option<(Duration, Duration, u64)>,
}

struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_xvfb() -> Result<Xvfb, Error> {
    let geometry = format!("{WIDTH}x{HEIGHT}x24");
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", &geometry])
        .args(["-nolisten", "tcp", "-br"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no Xvfb output")?;
    BufReader::new(stdout).read_line(&mut line)?;
    let display = format!(":{}", line.trim());
    Ok(Xvfb { child, display })
}

fn image(conn: &RustConnection, root: Window, y: i16, height: u16) -> Result<Vec<u8>, Error> {
    Ok(conn
        .get_image(ImageFormat::Z_PIXMAP, root, 0, y, WIDTH, height, !0)?
        .reply()?
        .data)
}

fn distinct_colours(data: &[u8]) -> usize {
    data.chunks_exact(4)
        .map(|p| (p[0], p[1], p[2]))
        .collect::<HashSet<_>>()
        .len()
}

fn viewable(conn: &RustConnection, root: Window) -> Result<bool, Error> {
    for child in conn.query_tree(root)?.reply()?.children {
        if conn.get_window_attributes(child)?.reply()?.map_state == MapState::VIEWABLE {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The screen as a PPM picture (the X server's pixels are BGRX).
fn save_ppm(path: &PathBuf, data: &[u8]) -> Result<(), Error> {
    let mut out = format!("P6 {WIDTH} {HEIGHT} 255\n").into_bytes();
    for p in data.chunks_exact(4) {
        out.extend_from_slice(&[p[2], p[1], p[0]]);
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn rss_kib(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".into())
}

fn one_run(
    conn: &RustConnection,
    root: Window,
    display: &str,
    binary: &PathBuf,
    profile: &PathBuf,
    log: &std::fs::File,
) -> Result<Run, Error> {
    let start = Instant::now();
    let mut child = Command::new(binary)
        .arg("--profile")
        .arg(profile)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env("ICED_BACKEND", "tiny-skia")
        .env("KOINE_THEME", "light")
        .env("KOINE_LANG", "en")
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .spawn()?;
    let pid = child.id();
    let result = watch(conn, root, start, pid);
    // SIGTERM, as a desktop session would close it.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    result
}

fn watch(conn: &RustConnection, root: Window, start: Instant, pid: u32) -> Result<Run, Error> {
    let mut mapped = None;
    // A strip across the middle of the window, eight rows high.
    let first_frame = loop {
        if start.elapsed() > TIMEOUT {
            return Err("no frame within 30 s".into());
        }
        if mapped.is_none() && viewable(conn, root)? {
            mapped = Some(start.elapsed());
        }
        if distinct_colours(&image(conn, root, (HEIGHT / 2) as i16, 8)?) >= 3 {
            break start.elapsed();
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let mapped = mapped.unwrap_or(first_frame);
    if let Some(dir) = std::env::var_os("KOINE_BENCH_SHOTS") {
        save_ppm(
            &PathBuf::from(dir).join("first-frame.ppm"),
            &image(conn, root, 0, HEIGHT)?,
        )?;
    }
    let mut last_hash = 0;
    let mut settled = first_frame;
    while start.elapsed() < first_frame + Duration::from_secs(4) {
        let mut h = DefaultHasher::new();
        image(conn, root, 0, HEIGHT)?.hash(&mut h);
        let taken = start.elapsed();
        let hash = h.finish();
        if hash != last_hash {
            last_hash = hash;
            settled = taken;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep((first_frame + Duration::from_secs(5)).saturating_sub(start.elapsed()));
    let rss = rss_kib(pid)?;
    let opened = match std::env::var("KOINE_BENCH_CLICK") {
        Ok(at) => Some(click_and_watch(conn, root, &at, pid)?),
        Err(_) => None,
    };
    Ok(Run {
        mapped,
        first_frame,
        settled,
        rss_kib: rss,
        opened,
    })
}

/// Clicks at "X,Y" through XTEST, then watches the screen: the first and
/// the last change within 3 s, and VmRSS 3 s after the click.
fn click_and_watch(
    conn: &RustConnection,
    root: Window,
    at: &str,
    pid: u32,
) -> Result<(Duration, Duration, u64), Error> {
    use x11rb::protocol::xproto::{BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, MOTION_NOTIFY_EVENT};
    use x11rb::protocol::xtest::ConnectionExt as _;
    use x11rb::wrapper::ConnectionExt as _;
    let (x, y) = at.split_once(',').ok_or("KOINE_BENCH_CLICK=X,Y")?;
    let (x, y): (i16, i16) = (x.trim().parse()?, y.trim().parse()?);
    conn.xtest_fake_input(MOTION_NOTIFY_EVENT, 0, 0, root, x, y, 0)?;
    conn.sync()?;
    std::thread::sleep(Duration::from_millis(200));
    let before = image(conn, root, 0, HEIGHT)?;
    let start = Instant::now();
    conn.xtest_fake_input(BUTTON_PRESS_EVENT, 1, 0, root, x, y, 0)?;
    conn.xtest_fake_input(BUTTON_RELEASE_EVENT, 1, 0, root, x, y, 0)?;
    conn.sync()?;
    let mut last = before;
    let (mut first, mut settled) = (None, Duration::ZERO);
    while start.elapsed() < Duration::from_secs(3) {
        let now = image(conn, root, 0, HEIGHT)?;
        let taken = start.elapsed();
        if now != last {
            first.get_or_insert(taken);
            settled = taken;
            last = now;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    if let Some(dir) = std::env::var_os("KOINE_BENCH_SHOTS") {
        save_ppm(&PathBuf::from(dir).join("opened.ppm"), &last)?;
    }
    Ok((
        first.ok_or("the click changed nothing")?,
        settled,
        rss_kib(pid)?,
    ))
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args_os().skip(1);
    let profile: PathBuf = args
        .next()
        .map(PathBuf::from)
        .ok_or("usage: bench_window PROFILE_DIR [RUNS] [KOINE_BINARY]")?;
    let runs: usize = args
        .next()
        .map(|a| a.to_string_lossy().parse())
        .transpose()?
        .unwrap_or(7);
    let binary = match args.next() {
        Some(b) => PathBuf::from(b),
        None => std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .ok_or("no directory")?
            .join("koine"),
    };
    let xvfb = start_xvfb()?;
    let (conn, screen) = x11rb::connect(Some(&xvfb.display))?;
    let root = conn.setup().roots[screen].root;
    let log_path = std::env::temp_dir().join(format!("bench_window-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path)?;
    let mut all = Vec::new();
    for n in 0..=runs {
        let run = one_run(&conn, root, &xvfb.display, &binary, &profile, &log)
            .map_err(|e| format!("run {n}: {e} (the window's output: {})", log_path.display()))?;
        eprintln!(
            "run {n}{}: mapped {:.1} ms, first frame {:.1} ms, settled {:.1} ms, VmRSS {:.1} MiB",
            if n == 0 { " (warm-up)" } else { "" },
            run.mapped.as_secs_f64() * 1e3,
            run.first_frame.as_secs_f64() * 1e3,
            run.settled.as_secs_f64() * 1e3,
            run.rss_kib as f64 / 1024.0
        );
        if let Some((first, settled, rss)) = run.opened {
            eprintln!(
                "  click: first change {:.1} ms, last change {:.1} ms, VmRSS {:.1} MiB",
                first.as_secs_f64() * 1e3,
                settled.as_secs_f64() * 1e3,
                rss as f64 / 1024.0
            );
        }
        if n > 0 {
            all.push(run);
        }
        // The screen back to black before the next launch.
        while distinct_colours(&image(&conn, root, (HEIGHT / 2) as i16, 8)?) >= 3 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let ms =
        |f: fn(&Run) -> Duration| median(all.iter().map(|r| f(r).as_secs_f64() * 1e3).collect());
    let (map, map_min, map_max) = ms(|r| r.mapped);
    let (ff, ff_min, ff_max) = ms(|r| r.first_frame);
    let (st, st_min, st_max) = ms(|r| r.settled);
    let (rss, rss_min, rss_max) = median(all.iter().map(|r| r.rss_kib as f64 / 1024.0).collect());
    if all.iter().all(|r| r.opened.is_some()) {
        let of = |f: fn(&(Duration, Duration, u64)) -> f64| {
            median(
                all.iter()
                    .filter_map(|r| r.opened.as_ref())
                    .map(f)
                    .collect(),
            )
        };
        let (a, a0, a1) = of(|o| o.0.as_secs_f64() * 1e3);
        let (b, b0, b1) = of(|o| o.1.as_secs_f64() * 1e3);
        let (c, c0, c1) = of(|o| o.2 as f64 / 1024.0);
        println!(
            "{{\"click_first_change_ms\": [{a:.1}, {a0:.1}, {a1:.1}], \
             \"click_last_change_ms\": [{b:.1}, {b0:.1}, {b1:.1}], \
             \"click_vmrss_mib\": [{c:.1}, {c0:.1}, {c1:.1}]}}"
        );
    }
    println!(
        "{{\"runs\": {runs}, \
         \"mapped_ms\": [{map:.1}, {map_min:.1}, {map_max:.1}], \
         \"first_frame_ms\": [{ff:.1}, {ff_min:.1}, {ff_max:.1}], \
         \"settled_ms\": [{st:.1}, {st_min:.1}, {st_max:.1}], \
         \"vmrss_mib\": [{rss:.1}, {rss_min:.1}, {rss_max:.1}], \
         \"order\": \"median, min, max\"}}"
    );
    let _ = std::fs::remove_file(&log_path);
    Ok(())
}
