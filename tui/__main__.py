"""`python -m tui [COMMAND]`: the same as the `assistant` command."""

import sys

from tui.launch import main

sys.exit(main())
