"""The API flow: validate, reserve quota, make the row, commit, cast."""
