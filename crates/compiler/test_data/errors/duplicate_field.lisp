(defstruct s (a u32) (a u64))
