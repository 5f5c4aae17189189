from ocppd.cli import main

raise SystemExit(main())
