"""One router per area; registered in vakt.hub.app.ROUTERS."""
