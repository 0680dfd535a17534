//! The PostgreSQL backend (`store.backend = "postgres"`). So far: connecting to the database
//! (`connect`: the URI, TLS by rustls, the connection pool and its health probe).

pub mod connect;
