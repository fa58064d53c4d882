//! Many servers, one set of rooms (in progress).
