//! A TCP endpoint on loopback that answers every connection with bytes that
//! break the protocol, to check that plugins fail with typed errors.

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Kinds of garbage, each a separate connection pattern.
pub const VARIANTS: &[&[u8]] = &[
    // Random-looking binary noise.
    b"\x16\x03\x01\x00\xff\x00\x00\x00\x00\xde\xad\xbe\xef\x00\x01\x02\x03\xfe\xfd\xfc",
    // A length prefix announcing 4 GiB, then nothing useful.
    b"\xff\xff\xff\xff\x00\x00\x00\x01garbage",
    // The start of an XML stream that breaks off into nonsense.
    b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' from='x'><<<&&&\x00\xff",
    // Half a JSON object, then a newline.
    b"{\"id\": 1, \"type\": \"kdeconnect.identity\", \"body\": {\"deviceId\": \n",
    // An HTTP response with a body that is not what any API returns.
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"next_batc",
];

/// A loopback listener that writes one garbage variant to every connection
/// (cycling through [`VARIANTS`]), reading and discarding what the client sends.
pub struct GarbageServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl GarbageServer {
    /// Starts the listener on 127.0.0.1 with an ephemeral port.
    pub async fn start(variant: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let payload: Arc<[u8]> = Arc::from(VARIANTS[variant % VARIANTS.len()]);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let payload = payload.clone();
                tokio::spawn(async move {
                    let _ = stream.write_all(&payload).await;
                    let mut buf = [0u8; 4096];
                    // Keep the connection open a little, swallowing input, then close.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                        while let Ok(n) = stream.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            let _ = stream.write_all(&payload).await;
                        }
                    })
                    .await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for GarbageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
