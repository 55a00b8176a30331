"""`python cli.py …` from the project folder: the command line lives in mailpipe/cli.py (installed as `mailpipe`)."""

from mailpipe.cli import main

if __name__ == "__main__":
    main()
