"""WSGI applications of the simulator: Keystone, Nova, Glance and the control API."""
