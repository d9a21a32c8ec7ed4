print("StoreTestWorker: not built yet")
