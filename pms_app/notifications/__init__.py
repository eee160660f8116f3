"""Notifications: operational events that tell ops about trouble as it happens."""
