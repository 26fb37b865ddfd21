"""microseg: trustworthy micro-segments from raw behavioural events."""
