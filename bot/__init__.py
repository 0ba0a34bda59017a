"""newsbot's application: the Discord bot and the `newsbot` command line, thin over `index/`."""
