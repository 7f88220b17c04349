"""Key/value store backends behind one small protocol (see ``base``)."""
