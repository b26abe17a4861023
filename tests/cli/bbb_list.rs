//! Tests of bbb-list against real answers and the stand-in.
