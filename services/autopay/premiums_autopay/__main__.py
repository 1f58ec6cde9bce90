from premiums_autopay.app import build

if __name__ == "__main__":  # not when a worker process imports this module (multiprocessing spawn)
    build().run()
