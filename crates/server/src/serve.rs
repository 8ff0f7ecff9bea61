//! The socket server: hyper 1 over TCP, WebSocket upgrades, graceful shutdown.
