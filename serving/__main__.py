"""`python -m serving --port=8500 --rest_api_port=8501 ...`: the local server without `tfxp`."""
import sys

from serving.cli import server_main

sys.exit(server_main())
