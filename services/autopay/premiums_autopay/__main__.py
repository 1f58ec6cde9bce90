from premiums_autopay.app import build

build().run()
