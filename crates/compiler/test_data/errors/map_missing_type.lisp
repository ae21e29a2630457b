(defmap m :key-size 4 :value-size 4 :max-entries 1)
