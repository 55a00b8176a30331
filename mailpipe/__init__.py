"""mailpipe: content -> render -> check -> plan -> push, for AIVI Aesthetics' emails."""

import os

# pydantic looks up plugins in every installed package's entry points the first time it validates (tens of ms at
# start-up); mailpipe uses none
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
