"""Purchase projects (采购项目): lines, criteria, publication, clarifications, the project's states."""
