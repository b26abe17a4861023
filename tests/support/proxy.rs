//! A TCP proxy between a tool and the throwaway PostgreSQL server that cuts every
//! connection (a TCP reset, as when the server's host dies) when the tool sends a chosen
//! statement: the error on the tool's database socket (ECONNRESET, then EPIPE) happens at
//! a known point instead of racing a server shutdown.

use super::pg::TestDb;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Frontend messages that run a statement: Query (simple protocol) and Execute (extended).
const STATEMENTS: [u8; 2] = [b'Q', b'E'];
/// Startup-phase request codes after which another startup message follows.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

#[derive(Default)]
struct Shared {
    /// Statements forwarded so far, over all connections.
    statements: AtomicU64,
    /// The statement (1-based, over all connections) that cuts; 0 = never.
    cut_at: AtomicU64,
    cut: AtomicBool,
    /// Both ends of every open connection, to cut them all at once.
    open: Mutex<Vec<(TcpStream, UnixStream)>>,
}

impl Shared {
    /// Resets every connection: the tool side gets a RST, the server side an end of stream
    /// (its backend ends and rolls back what was not committed). New connections are reset
    /// as soon as they are accepted.
    fn cut_all(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for (client, server) in self.open.lock().unwrap().drain(..) {
            let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
            // Wakes this connection's reader threads; the last handle closed sends the RST.
            let _ = client.shutdown(Shutdown::Read);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

/// A running proxy (its threads end with the test process).
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// A proxy to the throwaway server's Unix socket.
    pub fn start() -> Proxy {
        let dir =
            std::env::var("BBBMIG_TEST_PGHOST").expect("BBBMIG_TEST_PGHOST (run scripts/test)");
        let port = std::env::var("BBBMIG_TEST_PGPORT").unwrap_or_else(|_| "5432".into());
        let upstream = std::path::PathBuf::from(dir).join(format!(".s.PGSQL.{port}"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let shared = Arc::new(Shared::default());
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            shared: shared.clone(),
        };
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if shared.cut.load(Ordering::SeqCst) {
                    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                    continue;
                }
                let Ok(server) = UnixStream::connect(&upstream) else {
                    continue;
                };
                connect(&shared, client, server);
            }
        });
        proxy
    }

    /// `db`'s connection string through this proxy (plain TCP: the proxy reads the
    /// messages to count statements).
    pub fn conninfo(&self, db: &TestDb) -> String {
        let user = std::env::var("BBBMIG_TEST_PGUSER").unwrap_or_else(|_| "postgres".into());
        format!(
            "host=127.0.0.1 port={} user={user} dbname={} sslmode=disable",
            self.port, db.name
        )
    }

    /// Statements the tools sent through this proxy so far.
    pub fn statements(&self) -> u64 {
        self.shared.statements.load(Ordering::SeqCst)
    }

    /// Cuts every connection when the `n`-th statement (counted from the start) arrives:
    /// that statement never reaches the server.
    pub fn cut_at_statement(&self, n: u64) {
        self.shared.cut_at.store(n, Ordering::SeqCst);
    }

    /// Cuts every connection when the next statement arrives.
    pub fn cut_at_next_statement(&self) {
        self.cut_at_statement(self.statements() + 1);
    }

    /// True once the connections were cut.
    pub fn was_cut(&self) -> bool {
        self.shared.cut.load(Ordering::SeqCst)
    }
}

/// Starts the two copying threads of one connection.
fn connect(shared: &Arc<Shared>, client: TcpStream, server: UnixStream) {
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    shared
        .open
        .lock()
        .unwrap()
        .push((client.try_clone().unwrap(), server.try_clone().unwrap()));
    let sh = shared.clone();
    std::thread::spawn(move || to_server(&sh, client, server));
    let sh = shared.clone();
    std::thread::spawn(move || {
        let (mut from, mut to) = (s2, c2);
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(n) if n > 0 && to.write_all(&buf[..n]).is_ok() => {}
                _ => break,
            }
        }
        if !sh.cut.load(Ordering::SeqCst) {
            let _ = to.shutdown(Shutdown::Write);
        }
    });
}

/// Copies the tool's messages to the server, counting statements, until the cut.
fn to_server(shared: &Shared, mut client: TcpStream, mut server: UnixStream) {
    let mut pending: Vec<u8> = Vec::new();
    let mut startup = true;
    let mut buf = [0u8; 16384];
    loop {
        let n = match client.read(&mut buf) {
            Ok(n) if n > 0 => n,
            _ => break,
        };
        pending.extend_from_slice(&buf[..n]);
        // Forward the complete messages; the cut one and what follows never go.
        let mut at = 0;
        while let Some(len) = message_len(&pending[at..], startup) {
            if startup {
                let code = u32::from_be_bytes(pending[at + 4..at + 8].try_into().unwrap());
                startup = code == SSL_REQUEST || code == GSSENC_REQUEST;
            } else if STATEMENTS.contains(&pending[at]) {
                let nth = shared.statements.fetch_add(1, Ordering::SeqCst) + 1;
                let cut_at = shared.cut_at.load(Ordering::SeqCst);
                if cut_at != 0 && nth >= cut_at {
                    let _ = server.write_all(&pending[..at]);
                    shared.cut_all();
                    return;
                }
            }
            at += len;
        }
        if server.write_all(&pending[..at]).is_err() {
            break;
        }
        pending.drain(..at);
    }
    if !shared.cut.load(Ordering::SeqCst) {
        let _ = server.shutdown(Shutdown::Write);
    }
}

/// Length of the complete message at the start of `b`, if it is all there (startup
/// messages have no type byte).
fn message_len(b: &[u8], startup: bool) -> Option<usize> {
    // (bytes before the length field, shortest message)
    let (type_byte, min) = if startup { (0, 8) } else { (1, 5) };
    let field = b.get(type_byte..type_byte + 4)?;
    let len = u32::from_be_bytes(field.try_into().unwrap()) as usize + type_byte;
    (len >= min && b.len() >= len).then_some(len)
}
