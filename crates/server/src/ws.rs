//! WebSocket streaming (§7): `run_code` output forwarded as it is produced.
