(#\a #\A #\Space #\space #\Newline #\Tab #\Return #\Nul #\( #\) #\; #\" #\\ #\# #\U+41 #\é)
