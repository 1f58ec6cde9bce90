from premiums_notifications.app import build

build().run()
