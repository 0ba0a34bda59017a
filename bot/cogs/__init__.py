"""One cog per feature area: asking, the latest stories, admin."""
