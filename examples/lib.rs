//! Runnable examples of the agbcloud SDK; each file in this folder is one example.
