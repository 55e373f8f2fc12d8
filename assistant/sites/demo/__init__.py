"""The embedded DemoMarket support portal: forms, pages, app, and portal (DemoPortal, the server)."""
