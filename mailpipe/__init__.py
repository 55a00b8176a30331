"""mailpipe: content -> render -> check -> plan -> push, for AIVI Aesthetics' emails."""
