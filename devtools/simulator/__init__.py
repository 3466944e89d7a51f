"""A Nova + Keystone simulator: the compute API subset host recovery uses, with notifications."""
