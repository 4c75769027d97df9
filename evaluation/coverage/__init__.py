"""The 15-minute service circle: who lives within a walk of a venue with sessions, on a map; where to add one."""
