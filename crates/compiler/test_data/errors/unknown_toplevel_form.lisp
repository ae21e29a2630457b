(defmpa counts :type :hash :key-size 4 :value-size 8 :max-entries 16)
