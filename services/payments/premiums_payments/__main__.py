from premiums_payments.app import build

build().run()
