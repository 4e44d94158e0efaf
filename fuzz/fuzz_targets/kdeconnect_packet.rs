//! KDE Connect: the link's framing (lines, the size limit, a stream that
//! goes on after a bad line) and the packet decoder down to the typed bodies.
#![no_main]

use koine_sms::error::LinkError;
use koine_sms::kdeconnect::{decode_typed, link::PacketReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in data.split(|b| *b == b'\n') {
        let _ = decode_typed(line);
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    rt.block_on(async {
        let mut reader = PacketReader::new(Box::new(std::io::Cursor::new(data.to_vec())));
        // Every call consumes at least one byte or ends the stream.
        for _ in 0..=data.len() {
            if let Err(LinkError::Closed | LinkError::Io(_)) = reader.next().await {
                break;
            }
        }
    });
});
