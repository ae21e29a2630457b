(defmap m :type :hash :key-size 4 :value-size 4 :max-entrys 1)
