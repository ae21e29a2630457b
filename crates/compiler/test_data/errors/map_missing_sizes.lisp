(defmap m :type :hash :max-entries 8)
