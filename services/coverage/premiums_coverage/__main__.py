from premiums_coverage.app import build

build().run()
